/* Debian 12 ships libevtx-dev without libbfio-dev, yet libevtx/features.h declares
 * LIBEVTX_HAVE_BFIO, so <libevtx.h> includes <libbfio.h>, which is missing. Wirecheck opens
 * files by name and never uses the libbfio handle functions, so they are left out here. */
#include <libevtx/features.h>
#undef LIBEVTX_HAVE_BFIO
#include <libevtx.h>
