# Warnings are errors in our own code (generated protobuf code is compiled without -Werror).
function(sas_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Werror)
  # GCC 12 at -O3 (Release) reports -Wrestrict inside libstdc++'s std::string operator+ and
  # insert, for code with no overlap at all: GCC bug 105651, fixed in GCC 13. Only that warning,
  # only on those compilers, only in that configuration, is turned off.
  if(CMAKE_CXX_COMPILER_ID STREQUAL "GNU" AND CMAKE_CXX_COMPILER_VERSION VERSION_LESS 13)
    target_compile_options(${target} PRIVATE $<$<CONFIG:Release>:-Wno-restrict>)
  endif()
  if(SAS_SANITIZE OR SAS_TSAN)
    # GCC 12 reports false "maybe uninitialized" inside std::regex and std::variant once the
    # sanitizers change its inlining; the sanitizers themselves check the real thing.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized $<$<BOOL:${SAS_TSAN}>:-Wno-tsan>)
  endif()
endfunction()
