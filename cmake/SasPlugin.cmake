# sas_add_plugin(NAME SOURCES...): a SAS agenda plugin, a shared library that exports exactly
# two symbols, sas_plugin_negotiate and sas_plugin_manifest (hidden visibility plus a linker
# version script, so not even inline template instances leak out).
function(sas_add_plugin name)
  add_library(${name} MODULE ${ARGN})
  set_target_properties(${name} PROPERTIES PREFIX "lib" CXX_VISIBILITY_PRESET hidden
    C_VISIBILITY_PRESET hidden VISIBILITY_INLINES_HIDDEN ON)
  if(TARGET SasSdk::sdk)
    target_link_libraries(${name} PRIVATE SasSdk::sdk)
  else()
    target_link_libraries(${name} PRIVATE sas_sdk)
  endif()
  set(script ${CMAKE_CURRENT_BINARY_DIR}/${name}.exports.map)
  file(WRITE ${script} "{\n  global: sas_plugin_negotiate; sas_plugin_manifest;\n  local: *;\n};\n")
  target_link_options(${name} PRIVATE -Wl,--no-undefined -Wl,--version-script=${script})
  set_property(TARGET ${name} APPEND PROPERTY LINK_DEPENDS ${script})
endfunction()
