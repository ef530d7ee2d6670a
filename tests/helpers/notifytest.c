/*
 * notifytest - send READY=1, a STATUS and RELOADING=1 through notify.c, in
 * that order, to $NOTIFY_SOCKET; then STOPPING=1 with -s.
 */
#include <string.h>

#include "notify.h"

int
main(int argc, char **argv)
{
	notify_ready();
	notify_status("host connected");
	notify_reloading();
	if (argc > 1 && strcmp(argv[1], "-s") == 0)
		notify_stopping();
	return (0);
}
