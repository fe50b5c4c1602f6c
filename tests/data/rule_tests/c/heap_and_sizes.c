/* Annotated cases written for this project: heap lifetime, allocation sizes. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stdint.h>

struct session { char *name; int uid; };

void close_twice(char *buf, int failed) {
    free(buf);
    if (failed) {
        /* ruleid: c-use-after-free */
        free(buf);
    }
}

void close_once(char *buf, int failed) {
    free(buf);
    buf = NULL;
    if (failed) {
        /* ok: c-use-after-free */
        free(buf);
    }
}

int logout(struct session *s) {
    free(s);
    /* ruleid: c-use-after-free */
    return s->uid;
}

int logout_safe(struct session *s) {
    int uid = s->uid;
    /* ok: c-use-after-free */
    free(s);
    return uid;
}

void reuse(char *line) {
    char *copy = strdup(line);
    free(copy);
    copy = strdup("fresh");
    /* ok: c-use-after-free */
    printf("%s\n", copy);
    free(copy);
}

void error_path(char *p, int bad) {
    if (bad) {
        free(p);
        return;
    }
    /* ok: c-use-after-free */
    p[0] = 'x';
    free(p);
}

void release_fields(struct session *s) {
    free(s->name);
    /* ok: c-use-after-free */
    free(s);
}

int *copy_ints(const int *src, size_t count) {
    /* ruleid: c-alloc-size-overflow, c-taint-alloc-size-overflow */
    int *dst = malloc(count * sizeof(int));
    memcpy(dst, src, count * sizeof(int));
    return dst;
}

int *copy_ints_checked(const int *src, size_t count) {
    if (count > SIZE_MAX / sizeof(int)) {
        return NULL;
    }
    /* ok: c-alloc-size-overflow, c-taint-alloc-size-overflow */
    int *dst = malloc(count * sizeof(int));
    memcpy(dst, src, count * sizeof(int));
    return dst;
}

int *zeroed_ints(size_t count) {
    /* ok: c-alloc-size-overflow */
    int *dst = malloc(16 * sizeof(int));
    return dst ? dst : calloc(count, sizeof(int));
}

char *dup_name(const char *name) {
    /* ruleid: c-alloc-strlen-no-terminator */
    char *out = malloc(strlen(name));
    strcpy(out, name);
    return out;
}

char *dup_name_ok(const char *name) {
    /* ok: c-alloc-strlen-no-terminator */
    char *out = malloc(strlen(name) + 1);
    strcpy(out, name);
    return out;
}
