/*
 * rcvbuf.so, preloaded into perfdhcp by bench/dhcp/run.sh when
 * GEN_RCVBUF=1: every socket perfdhcp opens gets a 4 MiB receive buffer.
 *
 * perfdhcp asks for no buffer size, so its sockets get
 * net.core.rmem_default (208 KiB here), which is one setting for the whole
 * host: the benchmark does not change it. A server that answers in bursts
 * (a group commit releases the ACKs of its batch together) then overflows
 * the generator's socket while the generator is busy sending, and the
 * lost replies count as the server's drops. SO_RCVBUFFORCE (root) sets
 * the size past rmem_max for these sockets only.
 */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <sys/socket.h>

enum { generator_rcvbuf = 4 << 20 };

int socket(int domain, int type, int protocol)
{
	static int (*next_socket)(int, int, int);
	int fd, size = generator_rcvbuf;

	if (!next_socket)
		next_socket = (int (*)(int, int, int))dlsym(RTLD_NEXT, "socket");
	fd = next_socket(domain, type, protocol);
	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUFFORCE, &size, sizeof size);
	return fd;
}
