# port.sh - free_port for tests/lib/common.sh and the tests that stand
# alone (test_kdreplay).
#
#   free_port                  print a free TCP port on 127.0.0.1, below
#                              the ephemeral range

# Below the kernel's ephemeral ports, which an outgoing connection (another
# test's, any daemon's) can take between the check and the test's bind.
free_port() {
	_eph=32768
	read -r _eph _ </proc/sys/net/ipv4/ip_local_port_range 2>/dev/null
	[ "$_eph" -gt 11024 ] 2>/dev/null || _eph=32768
	while :; do
		_fp=$(( $(od -An -N2 -tu2 /dev/urandom) % (_eph - 10000) + 10000 ))
		ss -Htln "sport = :$_fp" 2>/dev/null | grep -q . ||
		    { echo "$_fp"; return 0; }
	done
}
