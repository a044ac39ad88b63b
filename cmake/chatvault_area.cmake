# chatvault_area(NAME DEPS ...): a static library built from src/<NAME>/*.cc with the public headers
# in include/. New files in an area need no CMake edit.
function(chatvault_area name)
  cmake_parse_arguments(ARG "" "" "DEPS" ${ARGN})
  file(GLOB sources CONFIGURE_DEPENDS ${CMAKE_SOURCE_DIR}/src/${name}/*.cc)
  add_library(chatvault_${name} STATIC ${sources})
  target_include_directories(chatvault_${name}
    PUBLIC ${CMAKE_SOURCE_DIR}/include
    PRIVATE ${CMAKE_SOURCE_DIR}/src)
  target_link_libraries(chatvault_${name} PUBLIC ${ARG_DEPS})
endfunction()

# chatvault_test(NAME SOURCES... DEPS ...): a GoogleTest executable registered with CTest.
# Tests find the test vectors (tests/vectors) through CHATVAULT_VECTORS_DIR and helper binaries through
# CHATVAULT_BINARY_DIR.
function(chatvault_test name)
  cmake_parse_arguments(ARG "" "TIMEOUT" "SOURCES;DEPS;LABELS" ${ARGN})
  add_executable(${name} ${ARG_SOURCES})
  target_link_libraries(${name} PRIVATE ${ARG_DEPS} GTest::gmock GTest::gtest GTest::gtest_main
    Threads::Threads)
  target_include_directories(${name} PRIVATE ${CMAKE_SOURCE_DIR}/tests ${CMAKE_SOURCE_DIR}/src)
  target_compile_definitions(${name} PRIVATE
    CHATVAULT_VECTORS_DIR="${CMAKE_SOURCE_DIR}/tests/vectors"
    CHATVAULT_SOURCE_DIR="${CMAKE_SOURCE_DIR}"
    CHATVAULT_BINARY_DIR="${CMAKE_BINARY_DIR}")
  if(NOT ARG_TIMEOUT)
    set(ARG_TIMEOUT 300)
  endif()
  gtest_discover_tests(${name} DISCOVERY_TIMEOUT 60
    PROPERTIES TIMEOUT ${ARG_TIMEOUT} LABELS "${ARG_LABELS}")
endfunction()

# chatvault_add_area_folders(): add_subdirectory for every folder next to the calling
# CMakeLists.txt that has a CMakeLists.txt of its own, so that bench/ and fuzz/ pick up a new area
# folder without an edit.
function(chatvault_add_area_folders)
  file(GLOB folders LIST_DIRECTORIES true ${CMAKE_CURRENT_SOURCE_DIR}/*)
  foreach(dir IN LISTS folders)
    if(IS_DIRECTORY ${dir} AND EXISTS ${dir}/CMakeLists.txt)
      add_subdirectory(${dir})
    endif()
  endforeach()
endfunction()
