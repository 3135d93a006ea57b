# ModnatsModule.cmake - build a modnats module.
#
#   modnats_add_module(<name> SOURCES a.c b.c [LIBRARIES ...] [STATIC])
#
# Builds <name>.so (no "lib" prefix) with hidden visibility and a version
# script that exports only the entry point, or, with STATIC (or when <name>
# is listed in MODNATS_STATIC_MODULES inside the modnats tree), a static
# library compiled with -DMODNATS_STATIC_MODULE whose entry point
# modnats_module_entry_<name> the core finds in its registry table.
# Third-party modules use this file from the installed SDK
# (find_package(modnats) provides it).

get_filename_component(_MODNATS_SDK_CMAKE_DIR "${CMAKE_CURRENT_LIST_FILE}" DIRECTORY)
if(NOT DEFINED MODNATS_SDK_INCLUDE_DIR)
  get_filename_component(MODNATS_SDK_INCLUDE_DIR "${_MODNATS_SDK_CMAKE_DIR}/../include" ABSOLUTE)
endif()

function(modnats_add_module name)
  cmake_parse_arguments(M "STATIC" "" "SOURCES;LIBRARIES" ${ARGN})
  set(static_build ${M_STATIC})
  if(DEFINED MODNATS_STATIC_MODULES AND name IN_LIST MODNATS_STATIC_MODULES)
    set(static_build ON)
  endif()
  if(static_build)
    add_library(${name} STATIC ${M_SOURCES})
    target_compile_definitions(${name} PRIVATE MODNATS_STATIC_MODULE)
    set_property(GLOBAL APPEND PROPERTY MODNATS_STATIC_MODULE_LIST ${name})
  else()
    add_library(${name} MODULE ${M_SOURCES})
    set_target_properties(${name} PROPERTIES PREFIX "" C_VISIBILITY_PRESET hidden)
    if(DEFINED MODNATS_MODULE_OUTPUT_DIR)
      set_target_properties(${name} PROPERTIES LIBRARY_OUTPUT_DIRECTORY ${MODNATS_MODULE_OUTPUT_DIR})
    endif()
    target_link_options(${name} PRIVATE
      "-Wl,--version-script=${_MODNATS_SDK_CMAKE_DIR}/module.map")
    if(DEFINED MODNATS_MODULE_INSTALL_DIR)
      install(TARGETS ${name} LIBRARY DESTINATION ${MODNATS_MODULE_INSTALL_DIR})
    endif()
  endif()
  target_include_directories(${name} PRIVATE ${MODNATS_SDK_INCLUDE_DIR})
  if(M_LIBRARIES)
    target_link_libraries(${name} PRIVATE ${M_LIBRARIES})
  endif()
endfunction()
