// switchyard: thread-local, cooperative context switching.
// The umbrella header of the C++ API; see README.md and docs/SEMANTICS.md.
#pragma once

#include "switchyard/environment.hpp"
#include "switchyard/errors.hpp"
#include "switchyard/logging.hpp"
#include "switchyard/options.hpp"
#include "switchyard/run_main.hpp"
#include "switchyard/stack.hpp"
