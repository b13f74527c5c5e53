/* main.c -- the stratagem program: dispatch to cmd_<name>.c (placeholder, being written). */
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc > 1 && strcmp(argv[1], "--version") == 0) {
        printf("stratagem 0.1.0\n");
        return 0;
    }
    fprintf(stderr, "stratagem: no commands yet\n");
    return 2;
}
