#include <stdlib.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

int check_host(const char *host)
{
    char *argv[] = {"ping", "-c", "1", "-W", "2", "--", (char *)host, NULL};
    int status;
    pid_t pid = fork();

    if (pid < 0) {
        return 0;
    }
    if (pid == 0) {
        execvp("ping", argv);
        _exit(127);
    }
    if (waitpid(pid, &status, 0) < 0) {
        return 0;
    }
    return WIFEXITED(status) && WEXITSTATUS(status) == 0;
}
