# sdk_build.cmake - the abi.sdk fixture: install the main build into a
# scratch prefix, check the installed SDK, and build the ABI test modules
# and the contrib ip_allow example against that prefix alone, each as a
# separate CMake project (find_package(modnats) + modnats_add_module).
#
#   cmake -DMAIN_BUILD=.. -DPREFIX=.. -DMODULES_SRC=.. -DMODULES_BUILD=..
#         -DIP_ALLOW_SRC=.. -DIP_ALLOW_BUILD=.. -DC_COMPILER=.. -DGENERATOR=..
#         -DBUILD_TYPE=.. [-DCONFIG=..] -P sdk_build.cmake
cmake_minimum_required(VERSION 3.18)

function(run what)
  execute_process(COMMAND ${ARGN} RESULT_VARIABLE rc OUTPUT_VARIABLE out ERROR_VARIABLE err)
  if(NOT rc EQUAL 0)
    message(FATAL_ERROR "${what} failed (${rc}):\n${out}\n${err}")
  endif()
endfunction()

# 1. Install (files already up to date are left alone, so an unchanged
#    header does not rebuild every module).
set(cfg_args)
if(CONFIG)
  set(cfg_args --config ${CONFIG})
endif()
run("cmake --install" ${CMAKE_COMMAND} --install ${MAIN_BUILD} --prefix ${PREFIX} ${cfg_args})

# 2. What the SDK promises to install.
foreach(f include/modnats/modnats.h
          lib/cmake/modnats/modnatsConfig.cmake
          lib/cmake/modnats/modnatsConfigVersion.cmake
          lib/cmake/modnats/ModnatsModule.cmake
          lib/cmake/modnats/module.map
          lib/pkgconfig/modnats.pc
          bin/modnats)
  if(NOT EXISTS ${PREFIX}/${f})
    message(FATAL_ERROR "cmake --install did not install ${f}")
  endif()
endforeach()
if(NOT IS_DIRECTORY ${PREFIX}/lib/modnats/modules)
  message(FATAL_ERROR "cmake --install did not create lib/modnats/modules")
endif()

# 3. The header alone, strictly: C99 and C11 pedantic (a module may use
#    either), and C++ when there is a compiler for it.
set(probe ${MODULES_BUILD}-probe)
file(MAKE_DIRECTORY ${probe})
file(WRITE ${probe}/hdr.c "#include <modnats/modnats.h>\nconst modnats_module_desc *d;\n")
foreach(std c99 c11)
  run("modnats.h as ${std}" ${C_COMPILER} -std=${std} -pedantic -Wall -Wextra -Werror
      -I${PREFIX}/include -c ${probe}/hdr.c -o ${probe}/hdr_${std}.o)
endforeach()
find_program(CXX_COMPILER NAMES c++ g++ clang++)
if(CXX_COMPILER)
  configure_file(${probe}/hdr.c ${probe}/hdr.cpp COPYONLY)
  run("modnats.h as C++11" ${CXX_COMPILER} -std=c++11 -pedantic -Wall -Wextra -Werror
      -I${PREFIX}/include -c ${probe}/hdr.cpp -o ${probe}/hdr_cpp.o)
endif()

# 4. The test modules and the example, out of tree, against the prefix.
foreach(p "MODULES" "IP_ALLOW")
  set(src ${${p}_SRC})
  set(bld ${${p}_BUILD})
  run("configure ${src}" ${CMAKE_COMMAND} -S ${src} -B ${bld} -G ${GENERATOR}
      -DCMAKE_PREFIX_PATH=${PREFIX} -DCMAKE_C_COMPILER=${C_COMPILER}
      -DCMAKE_BUILD_TYPE=${BUILD_TYPE})
  run("build ${src}" ${CMAKE_COMMAND} --build ${bld} ${cfg_args})
endforeach()

# 5. The version script: a module exports its entry point and nothing else.
find_program(NM nm)
if(NM)
  file(GLOB mods ${MODULES_BUILD}/*.so ${IP_ALLOW_BUILD}/*.so)
  foreach(so ${mods})
    get_filename_component(n ${so} NAME_WE)
    if(n STREQUAL "no_entry" OR n STREQUAL "not_elf")
      continue()
    endif()
    execute_process(COMMAND ${NM} -D --defined-only ${so} OUTPUT_VARIABLE syms RESULT_VARIABLE rc)
    string(REGEX MATCHALL "[^\n]+" lines "${syms}")
    set(exported)
    foreach(l ${lines})
      if(l MATCHES " [TDBRVW] ([A-Za-z_][A-Za-z0-9_@.]*)$")
        list(APPEND exported ${CMAKE_MATCH_1})
      endif()
    endforeach()
    if(NOT exported STREQUAL "modnats_module_entry")
      message(FATAL_ERROR "${so} exports [${exported}], not only modnats_module_entry")
    endif()
  endforeach()
endif()
message(STATUS "SDK installed in ${PREFIX}; modules in ${MODULES_BUILD} and ${IP_ALLOW_BUILD}")
