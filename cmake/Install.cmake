# `cmake --install build [--prefix P]` and `cpack -G DEB` (scripts/package-deb.sh): the binary,
# its man page and the example configs. Included at the end of the top-level CMakeLists.txt.
include(GNUInstallDirs)

# cpack packages what is built, as `cmake --install` does, instead of first rebuilding every
# target (tests included): scripts/package-deb.sh builds before it packages.
set(CMAKE_SKIP_INSTALL_ALL_DEPENDENCY ON)

# Installed RPATH: only the directories of linked shared libraries outside the system's
# default search path (a pyenv or /usr/local libpython3.X.so when built for such a Python);
# none for Debian's libpython3.11 and libtbb. Never the build tree (our own libraries are
# static): tests/integration/test_install.py checks readelf and ldd.
set_target_properties(gthreadd PROPERTIES INSTALL_RPATH "" INSTALL_RPATH_USE_LINK_PATH ON)
install(TARGETS gthreadd RUNTIME DESTINATION ${CMAKE_INSTALL_BINDIR})

# Man page: `gthreadd --help` rendered by Debian's help2man at build time (it reads our CLI11
# --help and --version as they are), gzipped (-9 as Debian Policy's "Manual pages" asks;
# -n: no name or timestamp, reproducible). Not in sanitizer/fuzz builds: running an
# instrumented binary at build time could fail the build on a leak report, and those builds
# are never installed.
find_program(GTHREADD_HELP2MAN help2man)
find_program(GTHREADD_GZIP gzip)
if(GTHREADD_SANITIZE OR GTHREADD_TSAN OR GTHREADD_FUZZ)
  message(STATUS "sanitizer/fuzz build: no man page")
elseif(GTHREADD_HELP2MAN AND GTHREADD_GZIP)
  set(man ${CMAKE_CURRENT_BINARY_DIR}/gthreadd.1)
  add_custom_command(OUTPUT ${man}.gz
    COMMAND ${GTHREADD_HELP2MAN} --no-info --section=1
            "--name=pre-forking threaded WSGI HTTP server, drop-in for gunicorn -k gthread"
            --output=${man} $<TARGET_FILE:gthreadd>
    COMMAND ${GTHREADD_GZIP} -9nf ${man}
    DEPENDS gthreadd
    COMMENT "Rendering gthreadd --help as the man page gthreadd.1.gz")
  add_custom_target(gthreadd_man ALL DEPENDS ${man}.gz)
  install(FILES ${man}.gz DESTINATION ${CMAKE_INSTALL_MANDIR}/man1)
else()
  message(STATUS "help2man or gzip not found: no man page (scripts/install-deps.sh installs help2man)")
endif()

# Example configs, not live ones: the units and configs name an app (/srv/mysite,
# mysite.wsgi:application) and paths the package cannot know, so they go where Debian Policy
# ("Additional documentation") puts examples, /usr/share/doc/<package>/examples, to be copied
# to /etc and adjusted; a unit in /lib/systemd/system would be a service that cannot start.
# Every file of config/ (a new one comes along: test_install.py compares the lists).
set(GTHREADD_EXAMPLES_DIR ${CMAKE_INSTALL_DOCDIR}/examples)
file(GLOB gthreadd_examples CONFIGURE_DEPENDS ${PROJECT_SOURCE_DIR}/config/*)
install(FILES ${gthreadd_examples} DESTINATION ${GTHREADD_EXAMPLES_DIR})
# The example unit's ExecStart names /usr/local/bin/gthreadd (the default prefix); rewrite it
# to where this install put the binary (/usr/bin in the .deb, /srv/venv/bin with
# --prefix /srv/venv), so the copied unit starts the binary that was installed.
install(CODE "set(gthreadd_examples \"${GTHREADD_EXAMPLES_DIR}\")
set(gthreadd_bindir \"${CMAKE_INSTALL_BINDIR}\")")
install(CODE [[
  foreach(var gthreadd_examples gthreadd_bindir)
    if(NOT IS_ABSOLUTE "${${var}}")
      set(${var} "${CMAKE_INSTALL_PREFIX}/${${var}}")
    endif()
  endforeach()
  set(unit "$ENV{DESTDIR}${gthreadd_examples}/gthreadd.service")
  file(READ "${unit}" text)
  string(REPLACE "ExecStart=/usr/local/bin/gthreadd " "ExecStart=${gthreadd_bindir}/gthreadd "
         text "${text}")
  file(WRITE "${unit}" "${text}")
]])

# The Debian package: gthreadd_<version>_<arch>.deb, installing to /usr.
set(CPACK_PACKAGE_NAME gthreadd)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY
    "pre-forking threaded WSGI HTTP server, drop-in for gunicorn -k gthread")
set(CPACK_PACKAGE_DESCRIPTION
    "gthreadd serves Python WSGI applications (Django, Flask, ...) the way gunicorn's gthread
worker does: a master process forks workers, each runs the app on a thread pool in an
embedded CPython ${Python_VERSION_MAJOR}.${Python_VERSION_MINOR}. It reads gunicorn's command line, gunicorn.conf.py files and INI
files. Example systemd units, nginx site and configs are in
/usr/share/doc/gthreadd/examples.")
set(GTHREADD_DEB_MAINTAINER "gthreadd maintainers <maintainers@users.noreply.b-seed-6228eb97.example>"
    CACHE STRING "Maintainer field of the .deb")
set(CPACK_DEBIAN_PACKAGE_MAINTAINER "${GTHREADD_DEB_MAINTAINER}")
set(CPACK_DEBIAN_PACKAGE_SECTION httpd)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
# Depends from dpkg-shlibdeps (dpkg-dev): libpython3.11, libtbb12, ... at the versions built.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_GENERATOR DEB)
include(CPack)
