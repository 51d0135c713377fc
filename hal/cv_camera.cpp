// The HAL's one OpenCV wrapper: decoding camera frames (imgcodecs) and V4L2 capture (videoio).
// A C interface (camera_priv.h); every exception is caught here and turned into an error code.
#include "hal/camera_priv.h"

#include <opencv2/core.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>
#include <opencv2/videoio.hpp>

#include <cstdio>
#include <cstring>

namespace {

int to_image(const cv::Mat &m, struct mtb_image **out, char *err, size_t err_len)
{
	cv::Mat bgr;
	if (m.channels() == 1)
		cv::cvtColor(m, bgr, cv::COLOR_GRAY2BGR);
	else if (m.channels() == 4)
		cv::cvtColor(m, bgr, cv::COLOR_BGRA2BGR);
	else
		bgr = m;
	if (bgr.depth() != CV_8U || bgr.channels() != 3) {
		snprintf(err, err_len, "unsupported pixel format");
		return MTB_ERR_NOTSUP;
	}
	int rc = mtb_image_create(out, bgr.cols, bgr.rows, 3);
	if (rc != MTB_OK) {
		snprintf(err, err_len, "image of %dx%d refused", bgr.cols, bgr.rows);
		return rc;
	}
	for (int y = 0; y < bgr.rows; y++)
		memcpy(mtb_image_row(*out, y), bgr.ptr(y), (size_t)bgr.cols * 3);
	return MTB_OK;
}

}  // namespace

extern "C" int mtb_cv_decode(const uint8_t *data, size_t len, struct mtb_image **out, char *err, size_t err_len)
{
	*out = nullptr;
	try {
		if (!data || len == 0 || len > (64u << 20)) {
			snprintf(err, err_len, "empty or oversized image data");
			return MTB_ERR_PROTO;
		}
		cv::Mat raw(1, (int)len, CV_8U, const_cast<uint8_t *>(data));
		cv::Mat m = cv::imdecode(raw, cv::IMREAD_COLOR);
		if (m.empty()) {
			snprintf(err, err_len, "cannot decode image (%zu bytes)", len);
			return MTB_ERR_PROTO;
		}
		return to_image(m, out, err, err_len);
	} catch (const std::exception &e) {
		snprintf(err, err_len, "OpenCV: %s", e.what());
		return MTB_ERR_PROTO;
	} catch (...) {
		snprintf(err, err_len, "OpenCV: unknown exception");
		return MTB_ERR_PROTO;
	}
}

extern "C" int mtb_cv_capture_open(const char *device, void **handle, char *err, size_t err_len)
{
	*handle = nullptr;
	try {
		auto *cap = new cv::VideoCapture(device, cv::CAP_V4L2);
		if (!cap->isOpened()) {
			delete cap;
			snprintf(err, err_len, "cannot open %s with V4L2", device);
			return MTB_ERR_IO;
		}
		*handle = cap;
		return MTB_OK;
	} catch (const std::exception &e) {
		snprintf(err, err_len, "OpenCV: %s", e.what());
		return MTB_ERR_IO;
	} catch (...) {
		snprintf(err, err_len, "OpenCV: unknown exception");
		return MTB_ERR_IO;
	}
}

extern "C" int mtb_cv_capture_grab(void *handle, struct mtb_image **out, char *err, size_t err_len)
{
	*out = nullptr;
	try {
		auto *cap = static_cast<cv::VideoCapture *>(handle);
		cv::Mat m;
		if (!cap->read(m) || m.empty()) {
			snprintf(err, err_len, "no frame from the device");
			return MTB_ERR_IO;
		}
		return to_image(m, out, err, err_len);
	} catch (const std::exception &e) {
		snprintf(err, err_len, "OpenCV: %s", e.what());
		return MTB_ERR_IO;
	} catch (...) {
		snprintf(err, err_len, "OpenCV: unknown exception");
		return MTB_ERR_IO;
	}
}

extern "C" void mtb_cv_capture_close(void *handle)
{
	try {
		delete static_cast<cv::VideoCapture *>(handle);
	} catch (...) {
	}
}
