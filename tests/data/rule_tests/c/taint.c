/* Taint rules for C (app/analysis/rules/taint/c.yaml): each ruleid has a look-alike that must stay quiet. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void command_from_stdin(void) {
    char cmd[100] = "ls ";
    size_t len = strlen(cmd);
    if (fgets(cmd + len, (int)(100 - len), stdin) != NULL) {
        // ruleid: c-taint-command-injection
        system(cmd);
    }
}

void command_from_environment(void) {
    char cmd[100] = "ls ";
    char *extra = getenv("EXTRA");
    if (extra != NULL) {
        strncat(cmd, extra, 100 - strlen(cmd) - 1);
    }
    // ruleid: c-taint-command-injection
    FILE *p = popen(cmd, "r");
    pclose(p);
}

void command_constant(void) {
    char cmd[100] = "ls ";
    strcat(cmd, "*.*");
    // ok: c-taint-command-injection
    system(cmd);
}

void shell_dash_c(const char *unused) {
    char arg[64];
    fgets(arg, sizeof(arg), stdin);
    // ruleid: c-taint-command-injection
    execl("/bin/sh", "sh", "-c", arg, NULL);
}

void format_from_input(void) {
    char buf[100];
    if (fgets(buf, sizeof(buf), stdin) == NULL) return;
    // ruleid: c-taint-format-string
    printf(buf);
    // ok: c-taint-format-string
    printf("%s\n", buf);
}

void format_constant(void) {
    char buf[100];
    strcpy(buf, "fixed string\n");
    // ok: c-taint-format-string
    printf(buf);
}

void overflow_from_input(void) {
    int n = 0;
    fscanf(stdin, "%d", &n);
    // ruleid: c-taint-integer-overflow
    int r = n * 2;
    printf("%d\n", r);
}

void overflow_guarded(void) {
    int n = 0;
    fscanf(stdin, "%d", &n);
    if (n > 0 && n < INT_MAX / 2) {
        // ok: c-taint-integer-overflow
        int r = n * 2;
        printf("%d\n", r);
    }
}

void overflow_at_max(void) {
    int n = INT_MAX;
    // ruleid: c-taint-integer-at-max
    n++;
    printf("%d\n", n);
}

void no_overflow_small(void) {
    int n = INT_MAX;
    n = 2;
    // ok: c-taint-integer-at-max
    n++;
    printf("%d\n", n);
}

void divide_by_input(void) {
    char line[32];
    int d = -1;
    if (fgets(line, sizeof(line), stdin) != NULL) {
        d = atoi(line);
    }
    // ruleid: c-taint-divide-by-zero
    printf("%d\n", 100 / d);
    if (d != 0) {
        // ok: c-taint-divide-by-zero
        printf("%d\n", 100 % d);
    }
}

void divide_by_zero_constant(void) {
    float f = 0.0F;
    // ruleid: c-taint-divide-by-zero
    printf("%f\n", 100.0 / f);
    float g = 0.0F;
    g = 2.0F;
    // ok: c-taint-divide-by-zero
    printf("%f\n", 100.0 / g);
    if (fabs(f) > 0.000001) {
        // ok: c-taint-divide-by-zero
        printf("%f\n", 100.0 / f);
    }
}

int ping_host(const char *host) {
    char cmd[256];
    snprintf(cmd, sizeof cmd, "ping -c 1 %s", host);
    // ruleid: c-taint-command-injection
    return system(cmd) == 0;
}

void log_as_format(const char *nickname) {
    // ruleid: c-taint-format-string
    printf(nickname);
    // ok: c-taint-format-string
    printf("%s", nickname);
}

int *table_from_input(void) {
    int n = -1;
    fscanf(stdin, "%d", &n);
    // ruleid: c-taint-alloc-size-overflow
    int *t = malloc(n * sizeof(int));
    return t;
}

int *table_fixed(void) {
    int n = -1;
    n = 20;
    // ok: c-taint-alloc-size-overflow
    int *t = malloc(n * sizeof(int));
    return t;
}
