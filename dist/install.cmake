# Runs at `cmake --install` time (see CMakeLists.txt for the variables it gets). Resolves the
# directories against the final prefix, writes the units with those paths, and installs the
# units, the sysusers.d file, the default configuration and the guide. DESTDIR is honoured
# by file(INSTALL) itself.

# A directory as an absolute path: absolute as given, else under the prefix. The prefixes
# / and /usr keep their configuration in /etc (FHS), as GNUInstallDirs does.
function(dnsd_full_dir out dir)
  if(IS_ABSOLUTE "${dir}")
    set(${out} "${dir}" PARENT_SCOPE)
  elseif(dir STREQUAL "etc" AND CMAKE_INSTALL_PREFIX MATCHES "^/(usr/?)?$")
    set(${out} "/etc" PARENT_SCOPE)
  else()
    string(REGEX REPLACE "/$" "" prefix "${CMAKE_INSTALL_PREFIX}")
    set(${out} "${prefix}/${dir}" PARENT_SCOPE)
  endif()
endfunction()

dnsd_full_dir(DNSD_BINDIR "${DNSD_BINDIR_REL}")
dnsd_full_dir(DNSD_SBINDIR "${DNSD_SBINDIR_REL}")
dnsd_full_dir(sysconfdir "${DNSD_SYSCONFDIR_REL}")
set(DNSD_CONFDIR "${sysconfdir}/dnsd")
dnsd_full_dir(DNSD_DOCDIR "${DNSD_DOCDIR_REL}")
if(NOT DNSD_SYSTEMD_UNITDIR)
  set(DNSD_SYSTEMD_UNITDIR "lib/systemd/system")
endif()
dnsd_full_dir(DNSD_SYSTEMD_UNITDIR "${DNSD_SYSTEMD_UNITDIR}")
if(NOT DNSD_SYSUSERSDIR)
  set(DNSD_SYSUSERSDIR "lib/sysusers.d")
endif()
dnsd_full_dir(DNSD_SYSUSERSDIR "${DNSD_SYSUSERSDIR}")

foreach(unit dnsd.service dnsd-probe.service dnsd-probe-agent.service)
  configure_file("${DNSD_DIST_SOURCE_DIR}/${unit}.in" "${DNSD_DIST_BINARY_DIR}/${unit}" @ONLY)
  file(INSTALL DESTINATION "${DNSD_SYSTEMD_UNITDIR}" TYPE FILE PERMISSIONS OWNER_READ
       OWNER_WRITE GROUP_READ WORLD_READ FILES "${DNSD_DIST_BINARY_DIR}/${unit}")
endforeach()

file(INSTALL DESTINATION "${DNSD_SYSUSERSDIR}" TYPE FILE RENAME dnsd.conf
     FILES "${DNSD_DIST_SOURCE_DIR}/dnsd.sysusers.conf")

# Configuration belongs to the operator: an edited file is never overwritten. The new
# default goes beside it as FILE.new, and the install says so.
foreach(conf dnsd.conf dnsd-probe.conf dnsd-probe-agent.conf)
  set(target "$ENV{DESTDIR}${DNSD_CONFDIR}/${conf}")
  set(name "${conf}")
  if(EXISTS "${target}")
    file(READ "${target}" old)
    file(READ "${DNSD_DIST_SOURCE_DIR}/${conf}" new)
    if(old STREQUAL new)
      continue()
    endif()
    set(name "${conf}.new")
    message(STATUS "Keeping the edited ${DNSD_CONFDIR}/${conf}; the new default is ${name}")
  endif()
  file(INSTALL DESTINATION "${DNSD_CONFDIR}" TYPE FILE RENAME "${name}" PERMISSIONS
       OWNER_READ OWNER_WRITE GROUP_READ WORLD_READ FILES "${DNSD_DIST_SOURCE_DIR}/${conf}")
endforeach()

file(GLOB docs "${DNSD_DOCS_SOURCE_DIR}/*.md")
file(INSTALL DESTINATION "${DNSD_DOCDIR}" TYPE FILE FILES ${docs})
