#include "password.h"
