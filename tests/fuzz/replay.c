/* SPDX-License-Identifier: GPL-2.0-or-later */
/* Without libFuzzer: run every file of the given corpus directories (or
 * files) through the target once, as an ordinary test (TAP output). */
#include <dirent.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "fuzz.h"

static int run_file(const char *path)
{
	struct stat st;
	unsigned char *buf;
	ssize_t n;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	if (fd < 0 || fstat(fd, &st) < 0)
		return -1;
	buf = malloc((size_t)st.st_size + 1);
	if (!buf) {
		close(fd);
		return -1;
	}
	n = read(fd, buf, (size_t)st.st_size);
	close(fd);
	if (n != st.st_size) {
		free(buf);
		return -1;
	}
	LLVMFuzzerTestOneInput(buf, (size_t)n);
	free(buf);
	return 0;
}

int main(int argc, char **argv)
{
	unsigned count = 0, bad = 0;

	for (int i = 1; i < argc; i++) {
		struct dirent **names;
		int n = scandir(argv[i], &names, NULL, alphasort);

		if (n < 0) {
			bad += run_file(argv[i]) < 0;
			count++;
			continue;
		}
		for (int k = 0; k < n; k++) {
			char p[4096];

			if (names[k]->d_name[0] != '.') {
				snprintf(p, sizeof(p), "%s/%s", argv[i], names[k]->d_name);
				bad += run_file(p) < 0;
				count++;
			}
			free(names[k]);
		}
		free(names);
	}
	printf("1..1\n%s 1 - replayed %u corpus inputs\n", bad || !count ? "not ok" : "ok", count);
	return bad || !count;
}
