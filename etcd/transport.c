/* SPDX-License-Identifier: GPL-2.0-or-later */
#include <curl/curl.h>

#include "etcd.h"

const char *etcd_transport_version(void)
{
	return curl_version();
}
