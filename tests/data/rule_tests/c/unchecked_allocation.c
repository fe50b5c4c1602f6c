/* Annotated cases written for this project: allocation results used before a NULL check. */
#include <stdlib.h>
#include <string.h>

struct node { int value; struct node *next; };

struct node *push(struct node *head, int v) {
    struct node *n = malloc(sizeof *n);
    /* ruleid: c-unchecked-allocation */
    n->value = v;
    n->next = head;
    return n;
}

struct node *push_checked(struct node *head, int v) {
    struct node *n = malloc(sizeof *n);
    if (n == NULL) {
        return head;
    }
    /* ok: c-unchecked-allocation */
    n->value = v;
    n->next = head;
    return n;
}

char *copy_line(const char *line, size_t len) {
    char *out = (char *) malloc(len + 1);
    /* ruleid: c-unchecked-allocation */
    memcpy(out, line, len);
    out[len] = '\0';
    return out;
}

char *copy_line_checked(const char *line, size_t len) {
    char *out = malloc(len + 1);
    if (!out)
        return NULL;
    /* ok: c-unchecked-allocation */
    memcpy(out, line, len);
    out[len] = '\0';
    return out;
}

int *counters(size_t n) {
    int *c = calloc(n, sizeof *c);
    if (c != NULL) {
        /* ok: c-unchecked-allocation */
        c[0] = 1;
    }
    return c;
}
