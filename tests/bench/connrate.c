/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * New TCP connections per second, with as little of our own cost as a
 * client can have: connect (the kernel's handshake), then close with a
 * reset (SO_LINGER 0, so no FIN exchange and no TIME_WAIT), one after the
 * other; the listener accepts and closes in a loop.
 *
 *   connrate listen PORT
 *   connrate ADDR PORT SECONDS    prints "N connections/s (ok, failed)"
 */
#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static int listen_on(const char *port)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int one = 1, fd = socket(AF_INET6, SOCK_STREAM | SOCK_CLOEXEC, 0);

	a.sin6_port = htons((uint16_t)atoi(port));
	if (fd < 0 || setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)) < 0 ||
	    bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || listen(fd, 4096) < 0) {
		perror("connrate: listen");
		return 1;
	}
	printf("listening\n");
	fflush(stdout);
	for (;;) {
		int c = accept4(fd, NULL, NULL, SOCK_CLOEXEC);

		if (c >= 0)
			close(c);
		else if (errno != EINTR && errno != ECONNABORTED)
			return 1;
	}
}

static double now(void)
{
	struct timespec t;

	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

int main(int argc, char **argv)
{
	struct addrinfo hints = { .ai_socktype = SOCK_STREAM }, *ai;
	struct linger lg = { .l_onoff = 1, .l_linger = 0 };
	unsigned long ok = 0, failed = 0;
	double start, elapsed;
	int seconds;

	if (argc == 3 && strcmp(argv[1], "listen") == 0)
		return listen_on(argv[2]);
	if (argc != 4 || (seconds = atoi(argv[3])) <= 0 || seconds > 3600) {
		fprintf(stderr, "usage: connrate listen PORT | connrate ADDR PORT SECONDS\n");
		return 2;
	}
	if (getaddrinfo(argv[1], argv[2], &hints, &ai) != 0) {
		fprintf(stderr, "connrate: cannot resolve %s\n", argv[1]);
		return 2;
	}
	start = now();
	do {
		int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);

		if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) == 0)
			ok++;
		else
			failed++;
		if (fd >= 0) {
			(void)setsockopt(fd, SOL_SOCKET, SO_LINGER, &lg, sizeof(lg));
			close(fd);
		}
		elapsed = now() - start;
	} while (elapsed < seconds);
	freeaddrinfo(ai);
	printf("%.0f connections/s (%lu ok, %lu failed)\n", (double)ok / elapsed, ok, failed);
	return failed ? 1 : 0;
}
