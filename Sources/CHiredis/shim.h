// hiredis 0.14 as Debian 12 installs it (libhiredis-dev): /usr/include/hiredis/hiredis.h. Only the blocking
// API is used; each connection belongs to one owner thread (see StamCore's OwnerThread).
#include <hiredis/hiredis.h>
