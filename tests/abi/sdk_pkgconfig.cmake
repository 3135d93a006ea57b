# sdk_pkgconfig.cmake - abi.sdk.pkgconfig: a module built with nothing but
# the installed modnats.pc (no CMake): `pkg-config --cflags modnats` must
# point into the prefix the SDK was installed in, and a module compiles and
# links with those flags.
#
#   cmake -DPREFIX=.. -DSRC=<a module .c> -DOUT=<dir> -DC_COMPILER=.. -P sdk_pkgconfig.cmake
cmake_minimum_required(VERSION 3.18)
find_program(PKG_CONFIG NAMES pkg-config pkgconf REQUIRED)
set(ENV{PKG_CONFIG_PATH} ${PREFIX}/lib/pkgconfig)
set(ENV{PKG_CONFIG_LIBDIR} ${PREFIX}/lib/pkgconfig)
execute_process(COMMAND ${PKG_CONFIG} --cflags modnats OUTPUT_VARIABLE cflags
                RESULT_VARIABLE rc OUTPUT_STRIP_TRAILING_WHITESPACE)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "pkg-config --cflags modnats failed (${rc})")
endif()
get_filename_component(real_prefix ${PREFIX} REALPATH)
# pkg-config does not normalise ${pcfiledir}/../..: resolve the -I path.
string(REGEX MATCH "-I([^ ]+)" _inc "${cflags}")
set(inc_dir "${CMAKE_MATCH_1}")
if(inc_dir)
  get_filename_component(inc_dir "${inc_dir}" REALPATH)
endif()
if(NOT inc_dir STREQUAL "${real_prefix}/include")
  message(FATAL_ERROR "modnats.pc installed in ${PREFIX} gives \"${cflags}\": its include "
                      "directory is not in that prefix (relocated installs need "
                      "prefix=\${pcfiledir}/../.. in modnats.pc)")
endif()
separate_arguments(flags UNIX_COMMAND "${cflags}")
file(MAKE_DIRECTORY ${OUT})
execute_process(COMMAND ${C_COMPILER} ${flags} -std=c11 -Wall -Wextra -Werror -fPIC -shared
                        -o ${OUT}/pc_module.so ${SRC}
                RESULT_VARIABLE rc ERROR_VARIABLE err)
if(NOT rc EQUAL 0)
  message(FATAL_ERROR "building a module with pkg-config's flags failed:\n${err}")
endif()
