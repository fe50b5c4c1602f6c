#include <stdio.h>

int read_name(char *buf, int n, FILE *f)
{
    // ruleid: c-unchecked-return
    fgets(buf, n, f);
    // ok: c-unchecked-return
    if (fgets(buf, n, f) == NULL) {
        return -1;
    }
    // ruleid: c-unchecked-return
    rename("a.tmp", "a.txt");
    // ok: c-unchecked-return
    if (rename("b.tmp", "b.txt") != 0) {
        return -1;
    }
    // ok: c-unchecked-return
    int got = scanf("%99s", buf);
    return got;
}
