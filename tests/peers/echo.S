/*
 * echo.S - the echo guest: a boot sector that echoes every byte its COM1
 * receives, so that tests put QEMU's real 16550 and chardevs in the path.
 *
 *	as --32 -o echo.o echo.S
 *	ld -m elf_i386 -Ttext 0x7c00 --oformat binary -o echo.bin echo.o
 *	qemu-system-x86_64 -nographic -nodefaults -monitor none \
 *	    -drive file=echo.bin,format=raw,if=floppy -boot a -serial pty
 *
 * COM1 at 0x3f8: 115200 8N1, FIFO on with a receive trigger of 14 bytes
 * (QEMU offers the chardev's bytes up to the trigger at a time, so a low
 * trigger costs a main-loop round per byte), receive interrupt on IRQ 4,
 * every other IRQ masked.  The CPU halts between interrupts: an idle guest
 * costs QEMU nothing under TCG.  The interrupt handler moves bytes from
 * the receive FIFO to the transmitter until none is left; a byte goes
 * back only once the transmitter has room, so none is dropped.
 */
	.code16
	.text
	.globl	_start

	.set	COM1, 0x3f8
	.set	RBR, COM1		/* receive buffer; THR, DLL */
	.set	IER, COM1 + 1		/* interrupt enable; DLM */
	.set	FCR, COM1 + 2
	.set	LCR, COM1 + 3
	.set	MCR, COM1 + 4
	.set	LSR, COM1 + 5
	.set	IRQ4_VEC, 0x0c		/* the BIOS's master PIC base is 8 */

_start:
	cli
	xorw	%ax, %ax
	movw	%ax, %ds
	movw	%ax, %ss
	movw	$0x7c00, %sp
	movw	$isr, IRQ4_VEC * 4
	movw	%ax, IRQ4_VEC * 4 + 2

	movw	$IER, %dx		/* no interrupts while we set up */
	xorb	%al, %al
	outb	%al, %dx
	movw	$LCR, %dx		/* divisor 1: 115200 baud */
	movb	$0x80, %al
	outb	%al, %dx
	movw	$RBR, %dx
	movb	$1, %al
	outb	%al, %dx
	movw	$IER, %dx
	xorb	%al, %al
	outb	%al, %dx
	movw	$LCR, %dx		/* 8N1 */
	movb	$0x03, %al
	outb	%al, %dx
	movw	$FCR, %dx		/* FIFOs on, cleared, trigger 14 */
	movb	$0xc7, %al
	outb	%al, %dx
	movw	$MCR, %dx		/* DTR, RTS, OUT2 (routes the IRQ) */
	movb	$0x0b, %al
	outb	%al, %dx
	movw	$IER, %dx		/* received data available */
	movb	$0x01, %al
	outb	%al, %dx
	movb	$0xef, %al		/* only IRQ 4 on the master PIC */
	outb	%al, $0x21
	movb	$0xff, %al
	outb	%al, $0xa1

	call	echo
idle:	sti
	hlt
	jmp	idle

/*
 * The PIC is edge-triggered: a byte that arrives while we are here keeps
 * the UART's line up with no new edge, and would wait for the next one.
 * Dropping the line (IER 0) before the end of interrupt and raising it
 * after makes that edge.
 */
isr:
	pushw	%ax
	pushw	%dx
	call	echo
	movw	$IER, %dx
	xorb	%al, %al
	outb	%al, %dx
	movb	$0x20, %al		/* end of interrupt */
	outb	%al, $0x20
	movb	$0x01, %al
	outb	%al, %dx
	popw	%dx
	popw	%ax
	iret

/* Echo until the receive FIFO is empty. */
echo:
	movw	$LSR, %dx
	inb	%dx, %al
	testb	$0x01, %al		/* data ready */
	jz	done
	movw	$RBR, %dx
	inb	%dx, %al
	movb	%al, %ah
	movw	$LSR, %dx
wait_thr:
	inb	%dx, %al
	testb	$0x20, %al		/* transmitter holding register empty */
	jz	wait_thr
	movw	$RBR, %dx
	movb	%ah, %al
	outb	%al, %dx
	jmp	echo
done:
	ret

	.org	510
	.byte	0x55, 0xaa
