# Warnings are errors in our own code (generated protobuf code is compiled without -Werror).
function(sas_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Werror)
  if(SAS_SANITIZE)
    # GCC 12 reports false "maybe uninitialized" inside std::regex and std::variant once the
    # sanitizers change its inlining; the sanitizers themselves check the real thing.
    target_compile_options(${target} PRIVATE -Wno-maybe-uninitialized)
  endif()
endfunction()
