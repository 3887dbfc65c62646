#include "codes.h"
