/* main.c - placeholder until the server lands (being written now). */
int main(void) { return 1; }
