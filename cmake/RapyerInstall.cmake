include(CMakePackageConfigHelpers)
install(TARGETS rapyer rapyer_testing EXPORT rapyerTargets
  ARCHIVE DESTINATION ${CMAKE_INSTALL_LIBDIR}
  LIBRARY DESTINATION ${CMAKE_INSTALL_LIBDIR})
install(DIRECTORY include/rapyer DESTINATION ${CMAKE_INSTALL_INCLUDEDIR})
set(RAPYER_CMAKE_DIR ${CMAKE_INSTALL_LIBDIR}/cmake/rapyer)
install(EXPORT rapyerTargets NAMESPACE rapyer:: DESTINATION ${RAPYER_CMAKE_DIR})
configure_package_config_file(cmake/rapyerConfig.cmake.in
  ${CMAKE_CURRENT_BINARY_DIR}/rapyerConfig.cmake INSTALL_DESTINATION ${RAPYER_CMAKE_DIR})
write_basic_package_version_file(${CMAKE_CURRENT_BINARY_DIR}/rapyerConfigVersion.cmake
  COMPATIBILITY SameMinorVersion)
install(FILES
  ${CMAKE_CURRENT_BINARY_DIR}/rapyerConfig.cmake
  ${CMAKE_CURRENT_BINARY_DIR}/rapyerConfigVersion.cmake
  cmake/FindHiredis.cmake
  DESTINATION ${RAPYER_CMAKE_DIR})
