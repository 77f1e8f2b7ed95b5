/* Placeholder: implemented by the foundation work (issue 2). */
#include "shared/config.h"
