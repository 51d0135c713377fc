// meterbench vision: the one OpenCV wrapper (see cv_wrap_priv.h). Every entry point catches
// every exception and turns it into an enum mtb_err with a reason in eb.
#include "cv_wrap_priv.h"

#include <opencv2/core.hpp>
#include <opencv2/dnn.hpp>
#include <opencv2/imgcodecs.hpp>
#include <opencv2/imgproc.hpp>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <exception>
#include <new>
#include <vector>

struct mtb_cvw_net {
	cv::dnn::Net net;
};

namespace {

int fail(struct mtb_errbuf *eb, int err, const char *what, const char *detail)
{
	return mtb_errbuf_set(eb, err, "%s: %s", what, detail);
}

// Catches what a body may throw. OpenCV messages are multi-line; keep the first line.
template <typename F> int guarded(struct mtb_errbuf *eb, const char *what, F body)
{
	try {
		return body();
	} catch (const cv::Exception &e) {
		std::string m = e.err.empty() ? e.what() : e.err;
		size_t nl = m.find('\n');
		if (nl != std::string::npos)
			m.resize(nl);
		return fail(eb, e.code == cv::Error::StsNoMem ? MTB_ERR_NOMEM : MTB_ERR_ARG, what, m.c_str());
	} catch (const std::bad_alloc &) {
		return fail(eb, MTB_ERR_NOMEM, what, "out of memory");
	} catch (const std::exception &e) {
		return fail(eb, MTB_ERR_ARG, what, e.what());
	} catch (...) {
		return fail(eb, MTB_ERR_ARG, what, "unknown exception");
	}
}

// A header over the caller's pixels; no copy.
cv::Mat view(const struct mtb_image *img)
{
	int type = img->channels == 1 ? CV_8UC1 : img->channels == 3 ? CV_8UC3 : CV_8UC4;
	return cv::Mat(img->height, img->width, type, img->data, img->stride);
}

bool image_ok(const struct mtb_image *img)
{
	return img && img->data && img->width > 0 && img->height > 0 &&
	       (img->channels == 1 || img->channels == 3 || img->channels == 4) &&
	       (long)img->width * img->height <= MTB_IMAGE_MAX_PIXELS &&
	       img->stride >= (size_t)img->width * (size_t)img->channels;
}

} // namespace

extern "C" int mtb_cvw_decode_bgr(const void *data, size_t len, int expect_w, int expect_h,
				  struct mtb_image **out, struct mtb_errbuf *eb)
{
	return guarded(eb, "cannot decode image", [&]() -> int {
		if (!data || len == 0 || len > (size_t)INT32_MAX)
			return fail(eb, MTB_ERR_ARG, "cannot decode image", "empty or oversized buffer");
		cv::Mat buf(1, (int)len, CV_8UC1, const_cast<void *>(data));
		cv::Mat m = cv::imdecode(buf, cv::IMREAD_COLOR);
		if (m.empty() || m.type() != CV_8UC3)
			return fail(eb, MTB_ERR_ARG, "cannot decode image", "decoder found no picture");
		if (m.cols != expect_w || m.rows != expect_h)
			return fail(eb, MTB_ERR_ARG, "cannot decode image", "decoded size differs from the header");
		struct mtb_image *img;
		int rc = mtb_image_create(&img, m.cols, m.rows, 3);
		if (rc != MTB_OK)
			return fail(eb, rc, "cannot decode image", mtb_strerror(rc));
		for (int y = 0; y < m.rows; y++)
			std::memcpy(mtb_image_row(img, y), m.ptr(y), (size_t)m.cols * 3);
		*out = img;
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_encode_jpeg(const struct mtb_image *img, int quality, unsigned char **out, size_t *len,
				   struct mtb_errbuf *eb)
{
	return guarded(eb, "cannot encode JPEG", [&]() -> int {
		if (!image_ok(img))
			return fail(eb, MTB_ERR_ARG, "cannot encode JPEG", "bad image");
		cv::Mat src = view(img);
		cv::Mat bgr;
		if (img->channels == 4)
			cv::cvtColor(src, bgr, cv::COLOR_BGRA2BGR);
		else
			bgr = src;
		std::vector<unsigned char> bytes;
		std::vector<int> params{ cv::IMWRITE_JPEG_QUALITY, quality };
		if (!cv::imencode(".jpg", bgr, bytes, params) || bytes.empty())
			return fail(eb, MTB_ERR_ARG, "cannot encode JPEG", "encoder failed");
		unsigned char *p = static_cast<unsigned char *>(std::malloc(bytes.size()));
		if (!p)
			return fail(eb, MTB_ERR_NOMEM, "cannot encode JPEG", "out of memory");
		std::memcpy(p, bytes.data(), bytes.size());
		*out = p;
		*len = bytes.size();
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_encode_png(const struct mtb_image *img, unsigned char **out, size_t *len, struct mtb_errbuf *eb)
{
	return guarded(eb, "cannot encode PNG", [&]() -> int {
		if (!image_ok(img))
			return fail(eb, MTB_ERR_ARG, "cannot encode PNG", "bad image");
		std::vector<unsigned char> bytes;
		if (!cv::imencode(".png", view(img), bytes) || bytes.empty())
			return fail(eb, MTB_ERR_ARG, "cannot encode PNG", "encoder failed");
		unsigned char *p = static_cast<unsigned char *>(std::malloc(bytes.size()));
		if (!p)
			return fail(eb, MTB_ERR_NOMEM, "cannot encode PNG", "out of memory");
		std::memcpy(p, bytes.data(), bytes.size());
		*out = p;
		*len = bytes.size();
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_resize_bgr(const struct mtb_image *img, int dst_w, int dst_h, unsigned char *dst,
				  struct mtb_errbuf *eb)
{
	return guarded(eb, "cannot resize image", [&]() -> int {
		if (!image_ok(img) || dst_w <= 0 || dst_h <= 0 || !dst)
			return fail(eb, MTB_ERR_ARG, "cannot resize image", "bad image");
		cv::Mat src = view(img);
		cv::Mat bgr;
		if (img->channels == 1)
			cv::cvtColor(src, bgr, cv::COLOR_GRAY2BGR);
		else if (img->channels == 4)
			cv::cvtColor(src, bgr, cv::COLOR_BGRA2BGR);
		else
			bgr = src;
		cv::Mat out(dst_h, dst_w, CV_8UC3, dst);
		cv::resize(bgr, out, cv::Size(dst_w, dst_h), 0, 0, cv::INTER_AREA);
		if (out.data != dst)   // resize must have written into the caller's buffer
			return fail(eb, MTB_ERR_STATE, "cannot resize image", "buffer reallocated");
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_net_load(const char *onnx_path, struct mtb_cvw_net **out, struct mtb_errbuf *eb)
{
	return guarded(eb, "cannot load model", [&]() -> int {
		mtb_cvw_net *n = new mtb_cvw_net;
		try {
			n->net = cv::dnn::readNetFromONNX(onnx_path);
			if (n->net.empty()) {
				delete n;
				return fail(eb, MTB_ERR_ARG, "cannot load model", onnx_path);
			}
			n->net.setPreferableBackend(cv::dnn::DNN_BACKEND_OPENCV);
			n->net.setPreferableTarget(cv::dnn::DNN_TARGET_CPU);
		} catch (...) {
			delete n;
			throw;
		}
		*out = n;
		return MTB_OK;
	});
}

extern "C" void mtb_cvw_net_destroy(struct mtb_cvw_net *net)
{
	delete net;
}

extern "C" int mtb_cvw_net_run(struct mtb_cvw_net *net, const float *input, int n, int c, int h, int w,
			       float *out, size_t out_len, struct mtb_errbuf *eb)
{
	return guarded(eb, "network failed", [&]() -> int {
		if (!net || !input || !out || n < 1)
			return fail(eb, MTB_ERR_ARG, "network failed", "null argument or empty batch");
		int dims[4] = { n, c, h, w };
		cv::Mat blob(4, dims, CV_32F, const_cast<float *>(input));
		net->net.setInput(blob);
		cv::Mat res = net->net.forward();
		if (res.type() != CV_32F || res.total() != out_len)
			return fail(eb, MTB_ERR_RANGE, "network failed", "unexpected output size");
		cv::Mat flat = res.reshape(1, 1);
		std::memcpy(out, flat.ptr<float>(0), out_len * sizeof(float));
		return MTB_OK;
	});
}

struct mtb_cvw_planes {
	cv::Mat f, grey, gx, gy, mag;
	int width = 0, height = 0;
};

extern "C" int mtb_cvw_planes_create(struct mtb_cvw_planes **out, struct mtb_errbuf *eb)
{
	return guarded(eb, "aligner", [&]() -> int {
		*out = new mtb_cvw_planes;
		return MTB_OK;
	});
}

extern "C" void mtb_cvw_planes_destroy(struct mtb_cvw_planes *p)
{
	delete p;
}

extern "C" int mtb_cvw_planes_set(struct mtb_cvw_planes *p, const struct mtb_image *img, struct mtb_errbuf *eb)
{
	return guarded(eb, "aligner", [&]() -> int {
		if (!p || !image_ok(img))
			return fail(eb, MTB_ERR_ARG, "aligner", "bad image");
		cv::Mat src = view(img);
		if (img->channels == 1) {
			src.convertTo(p->grey, CV_32F);
		} else {
			/* A band of rows at a time through a small float buffer: the same values as
			 * converting the whole frame (both steps work pixel by pixel, row by row), without
			 * writing and reading back a float copy of every channel of the frame. */
			p->grey.create(img->height, img->width, CV_32F);
			const int band = 16;
			for (int y0 = 0; y0 < img->height; y0 += band) {
				cv::Range rows(y0, std::min(y0 + band, img->height));
				src.rowRange(rows).convertTo(p->f, CV_32F);
				cv::Mat dst = p->grey.rowRange(rows);
				cv::cvtColor(p->f, dst, img->channels == 4 ? cv::COLOR_BGRA2GRAY : cv::COLOR_BGR2GRAY);
				if (dst.data != p->grey.ptr(y0))
					return fail(eb, MTB_ERR_STATE, "aligner", "grey band reallocated");
			}
		}
		p->width = img->width;
		p->height = img->height;
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_planes_level(struct mtb_cvw_planes *p, int f, float *grey, float *edge, struct mtb_errbuf *eb)
{
	return guarded(eb, "aligner", [&]() -> int {
		if (!p || !grey || !edge || f < 1 || p->width / f < 3 || p->height / f < 3)
			return fail(eb, MTB_ERR_ARG, "aligner", "bad level");
		int pw = p->width / f, ph = p->height / f;
		cv::Mat g(ph, pw, CV_32F, grey), e(ph, pw, CV_32F, edge);
		cv::Mat whole = p->grey(cv::Rect(0, 0, pw * f, ph * f));
		if (f == 1)
			whole.copyTo(g);
		else
			cv::resize(whole, g, cv::Size(pw, ph), 0, 0, cv::INTER_AREA);   // integer factor: block means
		cv::Sobel(g, p->gx, CV_32F, 1, 0, 3);
		cv::Sobel(g, p->gy, CV_32F, 0, 1, 3);
		cv::magnitude(p->gx, p->gy, p->mag);
		p->mag.row(0).setTo(0);
		p->mag.row(ph - 1).setTo(0);
		p->mag.col(0).setTo(0);
		p->mag.col(pw - 1).setTo(0);
		cv::blur(p->mag, e, cv::Size(3, 3));
		e.row(0).setTo(0);
		e.row(ph - 1).setTo(0);
		e.col(0).setTo(0);
		e.col(pw - 1).setTo(0);
		if (g.data != (uchar *)grey || e.data != (uchar *)edge)
			return fail(eb, MTB_ERR_STATE, "aligner", "buffer reallocated");
		return MTB_OK;
	});
}

extern "C" int mtb_cvw_warp_bgr(const struct mtb_image *img, const double *m, int w, int h, unsigned char *dst, size_t dst_stride,
				struct mtb_errbuf *eb)
{
	return guarded(eb, "crop", [&]() -> int {
		if (!image_ok(img) || !m || w <= 0 || h <= 0 || !dst)
			return fail(eb, MTB_ERR_ARG, "crop", "bad image");
		cv::Mat M(3, 3, CV_64F, const_cast<double *>(m));
		cv::Mat out(h, w, CV_8UC3, dst, dst_stride);
		int flags = cv::INTER_LINEAR | cv::WARP_INVERSE_MAP;
		if (img->channels == 3) {
			cv::warpPerspective(view(img), out, M, cv::Size(w, h), flags, cv::BORDER_REPLICATE);
		} else {
			cv::Mat tmp;
			cv::warpPerspective(view(img), tmp, M, cv::Size(w, h), flags, cv::BORDER_REPLICATE);
			cv::cvtColor(tmp, out, img->channels == 1 ? cv::COLOR_GRAY2BGR : cv::COLOR_BGRA2BGR);
		}
		if (out.data != dst)
			return fail(eb, MTB_ERR_STATE, "crop", "buffer reallocated");
		return MTB_OK;
	});
}
