function(rapyer_set_warnings target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion -Wno-sign-conversion)
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
    # GCC 12 false positives at -O2: -Wrestrict inside libstdc++'s std::string operator+ (GCC bug
    # 105329), and -Wmismatched-new-delete on Asio's awaitable frame allocator, which pairs its
    # own operator new and delete correctly.
    target_compile_options(${target} PRIVATE -Wno-restrict -Wno-mismatched-new-delete)
  endif()
  if(RAPYER_WARNINGS_AS_ERRORS)
    target_compile_options(${target} PRIVATE -Werror)
  endif()
endfunction()
