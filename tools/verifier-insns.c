// SPDX-License-Identifier: MIT
/*
 * Loads a BPF object into the kernel with the verifier's statistics on and
 * prints, for every program, the instructions the verifier processed
 * ("processed N insns") against its limit of 1,000,000, so a change to the
 * XDP programs is judged by the verifier before anything else.
 *
 *   make verifier-insns            (build/verifier-insns build/bpf/xdpfw.bpf.o)
 *
 * Exits 1 when the object does not load (the verifier's log is printed).
 */
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOG_SIZE (64u << 20)

/* Loads the object with every program's log at `level`; prints the counts
 * (level 4) or the end of each failing log (level 1). */
static int load(const char *path, __u32 level)
{
	struct bpf_object *obj = bpf_object__open_file(path, NULL);
	if (!obj) {
		fprintf(stderr, "%s: cannot open\n", path);
		return 1;
	}
	struct bpf_program *prog;
	int n = 0;
	bpf_object__for_each_program(prog, obj) n++;
	char **logs = calloc(n, sizeof(*logs));
	int i = 0;
	bpf_object__for_each_program(prog, obj) {
		logs[i] = calloc(1, LOG_SIZE);
		bpf_program__set_log_buf(prog, logs[i], LOG_SIZE);
		bpf_program__set_log_level(prog, level);
		i++;
	}
	int err = bpf_object__load(obj);
	i = 0;
	bpf_object__for_each_program(prog, obj) {
		if (level == 4) {
			const char *p = strstr(logs[i], "processed ");
			long insns = p ? strtol(p + strlen("processed "), NULL, 10) : -1;
			printf("%-24s %8ld insns  %5.1f%% of 1,000,000\n", bpf_program__name(prog), insns,
			       insns < 0 ? 0.0 : insns / 10000.0);
		} else if (logs[i][0]) {
			size_t len = strlen(logs[i]);
			fprintf(stderr, "--- %s ---\n%s\n", bpf_program__name(prog),
				len > 8000 ? logs[i] + len - 8000 : logs[i]);
		}
		free(logs[i]);
		i++;
	}
	free(logs);
	bpf_object__close(obj);
	return err ? 1 : 0;
}

int main(int argc, char **argv)
{
	if (argc != 2) {
		fprintf(stderr, "usage: %s OBJECT.bpf.o\n", argv[0]);
		return 2;
	}
	if (load(argv[1], 4) == 0)
		return 0;
	/* The statistics do not say why: once more with the verifier's log. */
	load(argv[1], 1);
	fprintf(stderr, "%s: load failed\n", argv[1]);
	return 1;
}

