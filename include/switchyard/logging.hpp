// The spdlog logger named "switchyard".
#pragma once

#include <memory>

namespace spdlog {
class logger;
}

namespace switchyard {

/// The logger, created on first use and registered with spdlog as
/// "switchyard": a stderr sink at level warn, or the level named by the
/// SWITCHYARD_LOG_LEVEL environment variable (trace, debug, info, warn,
/// err, critical, off). If the host registered a logger of that name
/// before, that one is used. Lifecycle events (create, switch, destroy,
/// cancel, teardown) log at trace/debug, problems at warn/error.
/// The host may change its level and sinks at any time: environments read
/// the level on every event. Thread-safe.
std::shared_ptr<spdlog::logger> logger();

/// Replaces the logger used by environments created after this call.
/// Passing nullptr restores the default. Thread-safe.
void set_logger(std::shared_ptr<spdlog::logger> logger);

}  // namespace switchyard
