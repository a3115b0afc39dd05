# Dependencies, all from Debian 12 packages (see README "Requirements").
include(GNUInstallDirs)
include(CMakeFindDependencyMacro)
find_package(Threads REQUIRED)
# libboost1.81-dev: Boost.Describe first shipped in 1.77, so the distro default 1.74 will not do.
find_package(Boost 1.81 CONFIG REQUIRED)
find_package(nlohmann_json 3.10 REQUIRED)
find_package(Hiredis MODULE REQUIRED)
# libssl-dev: TLS connections (rediss://).
find_package(OpenSSL 3 REQUIRED)
