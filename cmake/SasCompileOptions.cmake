# Warnings are errors in our own code (generated protobuf code is compiled without -Werror).
function(sas_strict target)
  target_compile_options(${target} PRIVATE -Wall -Wextra -Wpedantic -Wshadow -Wconversion
    -Wno-sign-conversion -Werror)
endfunction()
