#include "ed25519.h"
