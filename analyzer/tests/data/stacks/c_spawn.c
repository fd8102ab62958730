#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <pthread.h>
#include <sys/wait.h>
extern char **environ;
static void run_posix_spawn(void) {
    pid_t pid; char *argv[] = {"true", NULL};
    if (posix_spawnp(&pid, "true", NULL, NULL, argv, environ) == 0) waitpid(pid, NULL, 0);
}
static void run_fork(void) {
    pid_t pid = fork();
    if (pid == 0) { execlp("true", "true", (char*)NULL); _exit(127); }
    waitpid(pid, NULL, 0);
}
static void run_vfork(void) {
    pid_t pid = vfork();
    if (pid == 0) { execlp("true", "true", (char*)NULL); _exit(127); }
    waitpid(pid, NULL, 0);
}
static void run_system(void) { if (system("true") < 0) perror("system"); }
static void run_popen(void) { FILE *f = popen("true", "r"); if (f) pclose(f); }
static void *worker(void *arg) { run_posix_spawn(); return arg; }
int main(int argc, char **argv) {
    const char *m = argc > 1 ? argv[1] : "posix_spawn";
    if (!strcmp(m, "posix_spawn")) run_posix_spawn();
    else if (!strcmp(m, "fork")) run_fork();
    else if (!strcmp(m, "vfork")) run_vfork();
    else if (!strcmp(m, "system")) run_system();
    else if (!strcmp(m, "popen")) run_popen();
    else if (!strcmp(m, "thread")) { pthread_t t; pthread_create(&t, NULL, worker, NULL); pthread_join(t, NULL); }
    return 0;
}
