/* SPDX-License-Identifier: GPL-2.0-or-later */
/*
 * A tiny traffic peer for the namespace tests.
 *   probe listen tcp:80 udp:80 ...     answer "ok" on each port, IPv4+IPv6
 *   probe tcp|udp ADDR PORT [MS]       exit 0 if "ok" came back in time
 *   probe many MS tcp:ADDR:PORT ...    all at once; prints one character
 *                                      per target: 'o' answered, '-' not
 * PROBE_SOURCE=ADDR binds probes to that source address (tcp|udp only).
 */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_PORTS 32

static int open_listener(const char *spec, int *ret_udp)
{
	struct sockaddr_in6 a = { .sin6_family = AF_INET6, .sin6_addr = IN6ADDR_ANY_INIT };
	int udp = strncmp(spec, "udp:", 4) == 0, off = 0, on = 1, fd;

	if (!udp && strncmp(spec, "tcp:", 4) != 0)
		return -1;
	a.sin6_port = htons((uint16_t)atoi(spec + 4));
	fd = socket(AF_INET6, (udp ? SOCK_DGRAM : SOCK_STREAM) | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) < 0 || (!udp && listen(fd, 64) < 0)) {
		close(fd);
		return -1;
	}
	*ret_udp = udp;
	return fd;
}

static int serve(int argc, char **argv)
{
	struct pollfd p[MAX_PORTS];
	int udp[MAX_PORTS], n = 0;

	for (int i = 2; i < argc && n < MAX_PORTS; i++) {
		p[n].fd = open_listener(argv[i], &udp[n]);
		if (p[n].fd < 0) {
			fprintf(stderr, "probe: cannot listen on %s: %s\n", argv[i],
				strerror(errno));
			return 1;
		}
		p[n++].events = POLLIN;
	}
	printf("ready\n");
	fflush(stdout);
	for (;;) {
		if (poll(p, (nfds_t)n, -1) < 0 && errno != EINTR)
			return 1;
		for (int i = 0; i < n; i++) {
			struct sockaddr_storage from;
			socklen_t len = sizeof(from);
			char buf[64];

			if (!(p[i].revents & POLLIN))
				continue;
			if (udp[i]) {
				if (recvfrom(p[i].fd, buf, sizeof(buf), 0, (struct sockaddr *)&from,
					     &len) >= 0)
					(void)!sendto(p[i].fd, "ok", 2, 0, (struct sockaddr *)&from,
						      len);
			} else {
				int c = accept4(p[i].fd, NULL, NULL, SOCK_CLOEXEC);

				if (c >= 0) {
					(void)!write(c, "ok", 2);
					close(c);
				}
			}
		}
	}
}

/* PROBE_SOURCE: a source address of the caller's choosing (one the
 * namespace has, so that the packet may claim it). */
static int bind_source(int fd, int family)
{
	const char *src = getenv("PROBE_SOURCE");
	struct sockaddr_in6 a6 = { .sin6_family = AF_INET6 };
	struct sockaddr_in a4 = { .sin_family = AF_INET };

	if (!src || !*src)
		return 0;
	if (family == AF_INET && inet_pton(AF_INET, src, &a4.sin_addr) == 1)
		return bind(fd, (struct sockaddr *)&a4, sizeof(a4));
	if (family == AF_INET6 && inet_pton(AF_INET6, src, &a6.sin6_addr) == 1)
		return bind(fd, (struct sockaddr *)&a6, sizeof(a6));
	return -1;
}

static int probe(const char *proto, const char *addr, const char *port, int ms)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	struct pollfd p;
	char buf[8];
	int fd, udp = strcmp(proto, "udp") == 0;
	ssize_t n;

	hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(addr, port, &hints, &ai) != 0)
		return 2;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return 2;
	if (bind_source(fd, ai->ai_family) < 0) {
		freeaddrinfo(ai);
		close(fd);
		return 2;
	}
	if (connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		freeaddrinfo(ai);
		close(fd);
		return 1;
	}
	freeaddrinfo(ai);
	if (udp && send(fd, "ping", 4, 0) < 0) {
		close(fd);
		return 1;
	}
	p = (struct pollfd){ .fd = fd, .events = POLLIN };
	if (poll(&p, 1, ms) <= 0) {
		close(fd);
		return 1;
	}
	n = recv(fd, buf, sizeof(buf), 0);
	close(fd);
	return n == 2 && memcmp(buf, "ok", 2) == 0 ? 0 : 1;
}

#define MAX_TARGETS 256

/* Starts one probe: a non-blocking connect (TCP) or a datagram (UDP). */
static int start(const char *spec)
{
	struct addrinfo hints = { .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV }, *ai;
	char buf[128], *addr, *port;
	int fd, udp;

	snprintf(buf, sizeof(buf), "%s", spec);
	addr = strchr(buf, ':');
	port = strrchr(buf, ':');
	if (!addr || addr == port)
		return -1;
	*addr++ = '\0';
	*port++ = '\0';
	udp = strcmp(buf, "udp") == 0;
	hints.ai_socktype = udp ? SOCK_DGRAM : SOCK_STREAM;
	if (getaddrinfo(addr, port, &hints, &ai) != 0)
		return -1;
	fd = socket(ai->ai_family, ai->ai_socktype | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd >= 0 && connect(fd, ai->ai_addr, ai->ai_addrlen) < 0 && errno != EINPROGRESS) {
		close(fd);
		fd = -2; /* refused at once: closed */
	}
	freeaddrinfo(ai);
	if (fd >= 0 && udp && send(fd, "ping", 4, 0) < 0) {
		close(fd);
		fd = -2;
	}
	return fd;
}

static long ms_since(const struct timespec *t0)
{
	struct timespec now;

	clock_gettime(CLOCK_MONOTONIC, &now);
	return (now.tv_sec - t0->tv_sec) * 1000 + (now.tv_nsec - t0->tv_nsec) / 1000000;
}

/* probe many MS SPEC...: every target at once, one answer each. */
static int many(int ms, int n, char **specs)
{
	struct pollfd p[MAX_TARGETS];
	char out[MAX_TARGETS + 1];
	struct timespec t0;
	int left = 0;
	long spent;

	if (n > MAX_TARGETS)
		return 2;
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (int i = 0; i < n; i++) {
		p[i] = (struct pollfd){ .fd = start(specs[i]), .events = POLLIN };
		out[i] = '-';
		if (p[i].fd == -1)
			return 2;
		if (p[i].fd >= 0)
			left++;
		else
			p[i].fd = -1; /* poll ignores it */
	}
	out[n] = '\0';
	while (left > 0 && (spent = ms_since(&t0)) < ms) {
		if (poll(p, (nfds_t)n, (int)(ms - spent)) < 0 && errno != EINTR)
			return 2;
		for (int i = 0; i < n; i++) {
			char buf[8];

			if (p[i].fd < 0 || !p[i].revents)
				continue;
			if (recv(p[i].fd, buf, sizeof(buf), 0) == 2 && memcmp(buf, "ok", 2) == 0)
				out[i] = 'o';
			close(p[i].fd);
			p[i].fd = -1;
			left--;
		}
	}
	for (int i = 0; i < n; i++)
		if (p[i].fd >= 0)
			close(p[i].fd);
	printf("%s\n", out);
	return 0;
}

/* probe rate tcp ADDR PORT SECONDS: new TCP connections per second, each
 * one connect + answer + close, one after the other. */
static int rate(const char *addr, const char *port, int seconds)
{
	struct timespec start, now;
	unsigned long ok = 0, failed = 0;
	double elapsed;

	clock_gettime(CLOCK_MONOTONIC, &start);
	do {
		if (probe("tcp", addr, port, 1000) == 0)
			ok++;
		else
			failed++;
		clock_gettime(CLOCK_MONOTONIC, &now);
		elapsed = (double)(now.tv_sec - start.tv_sec) +
			  (double)(now.tv_nsec - start.tv_nsec) / 1e9;
	} while (elapsed < seconds);
	printf("%.0f connections/s (%lu ok, %lu failed)\n", (double)ok / elapsed, ok, failed);
	return failed ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc == 6 && strcmp(argv[1], "rate") == 0)
		return rate(argv[3], argv[4], atoi(argv[5]));
	if (argc >= 3 && strcmp(argv[1], "many") == 0)
		return many(atoi(argv[2]), argc - 3, argv + 3);
	if (argc >= 3 && strcmp(argv[1], "listen") == 0)
		return serve(argc, argv);
	if (argc >= 4)
		return probe(argv[1], argv[2], argv[3], argc > 4 ? atoi(argv[4]) : 700);
	fprintf(stderr, "usage: probe listen tcp:PORT|udp:PORT ... | probe tcp|udp ADDR PORT [MS]\n"
			"       probe many MS tcp|udp:ADDR:PORT ...\n");
	return 2;
}
