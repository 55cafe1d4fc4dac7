// OpenBLAS's CBLAS interface from Debian's libopenblas-dev (/usr/include/x86_64-linux-gnu/cblas.h),
// with openblas_set_num_threads and openblas_get_corename.
#include <cblas.h>
