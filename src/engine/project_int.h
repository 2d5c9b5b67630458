/* The compiled projection, shared by project.c (json-c trees, raw bytes)
 * and projtape.c (tapes).  Private to those files. */
#ifndef SEGEXPORT_PROJECT_INT_H
#define SEGEXPORT_PROJECT_INT_H
#include <stdbool.h>
#include <stddef.h>

typedef struct pnode {
    char *name;
    bool terminal;          /* the path ends here: the whole value is selected */
    struct pnode *kids;
    size_t nkids, capkids;
} pnode;

struct se_proj {
    pnode root;
};
#endif
