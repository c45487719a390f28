/* SPDX-License-Identifier: GPL-2.0-or-later */
/* The selector syntax tree, shared by the parser and the printer. */
#ifndef NFTMGR_SELECTOR_AST_H
#define NFTMGR_SELECTOR_AST_H

#include <stddef.h>

#include "selector.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

enum sel_op {
	SEL_ALL,
	SEL_GLOBAL,
	SEL_HAS,
	SEL_EQ,
	SEL_NE,
	SEL_IN,
	SEL_NOT_IN,
	SEL_CONTAINS,
	SEL_STARTS,
	SEL_ENDS,
	SEL_NOT,
	SEL_AND,
	SEL_OR,
};

struct selector {
	enum sel_op op;
	char *label;
	char *value;
	char **set; /* sorted, unique */
	size_t n_set;
	struct selector **kids; /* NOT: 1; AND, OR: 2 or more */
	size_t n_kids;
};

#endif
