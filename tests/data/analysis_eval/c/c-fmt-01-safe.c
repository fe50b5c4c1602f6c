#include <stdio.h>

void greet(const char *nickname)
{
    printf("Hello, ");
    printf("%s", nickname);
    printf("!\n");
}

int main(int argc, char **argv)
{
    if (argc > 1) {
        greet(argv[1]);
    }
    return 0;
}
