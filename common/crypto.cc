#include "crypto.h"
