#include <stdio.h>
#include <string.h>
#include <errno.h>

int load_config(const char *path)
{
    char err[300];
    FILE *f = fopen(path, "r");

    if (f == NULL) {
        snprintf(err, sizeof err, "cannot open %s: %s\n", path, strerror(errno));
        fprintf(stderr, err);
        return -1;
    }
    fclose(f);
    return 0;
}
