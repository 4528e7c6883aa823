#include "check.h"
static void t_todo(void) { CHECK(0); }
static const struct check_case cases[] = {{"todo", t_todo}};
CHECK_MAIN(cases)
