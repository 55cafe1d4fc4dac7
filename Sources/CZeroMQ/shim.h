#ifndef LATENTD_CZEROMQ_SHIM_H
#define LATENTD_CZEROMQ_SHIM_H
#include <zmq.h>
#endif
