#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int read_quantity(void)
{
    char buf[32];
    char *end;
    long n;

    printf("Quantity: ");
    fflush(stdout);
    if (fgets(buf, sizeof buf, stdin) == NULL) {
        return -1;
    }
    n = strtol(buf, &end, 10);
    if (end == buf || n < 0 || n > 10000) {
        return -1;
    }
    return (int)n;
}
