#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int read_quantity(void)
{
    char buf[32];

    printf("Quantity: ");
    fflush(stdout);
    if (gets(buf) == NULL) {
        return -1;
    }
    return atoi(buf);
}
