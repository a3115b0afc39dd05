// A server that runs the JSON.* commands, for the JSON-layout tests: Valkey with the valkey-json
// module (what CI runs, from ../shared/servers/setup), or a Redis 8 / Redis Stack server.
#pragma once

#include <optional>
#include <string_view>

#include "rapyer/testing/embedded_server.hpp"

namespace rapyer::test {

/// Why a JSON test skips when json_server_options() finds no such server.
inline constexpr std::string_view json_server_missing =
    "JSON-layout tests need a server with the JSON module: set RAPYER_TEST_VALKEY_SERVER and "
    "RAPYER_TEST_JSON_MODULE (eval \"$(../shared/servers/setup)\") or RAPYER_TEST_SERVER to a Redis 8 / "
    "Redis Stack server";

/// Options for an embedded_server that runs JSON.* commands: RAPYER_TEST_VALKEY_SERVER loading the
/// module RAPYER_TEST_JSON_MODULE when both are set, else RAPYER_TEST_SERVER when it has them built
/// in (asked once, by starting it). nullopt when neither; the test then skips with
/// json_server_missing.
std::optional<rapyer::testing::embedded_server_options> json_server_options();

}  // namespace rapyer::test
