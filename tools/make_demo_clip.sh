#!/usr/bin/env bash
# Transcode OpenCV's vtest.avi sample (Debian package opencv-doc) into media/vtest.mp4.
#
# Why these settings:
#   -g 10 -keyint_min 10 -sc_threshold 0   an IDR frame exactly every 10 frames (1 s at 10 fps),
#                                          so seeking/looping from any offset and RTSP restarts
#                                          start decoding within a second.
#   -crf 34 -x264-params ipratio=1.0       with a keyframe every second the I-frames dominate the
#                                          size (CRF 28 gave 6.6 MB, 80% of it I-frames); coding
#                                          I-frames at the P-frame quantiser and CRF 34 gives
#                                          ~2.8 MB. NanoDet finds the same pedestrians as in the
#                                          source (persons > 0.4 summed over every 20th frame:
#                                          243 in the AVI, 245 here, 250 at CRF 28).
#   -bf 0                                  no B-frames, like most IP cameras: decode order is
#                                          display order, so restreaming without re-encoding and
#                                          frame-accurate seeking need no reordering (+3% size).
#   -pix_fmt yuv420p, High profile         plays in browsers and every decoder.
#   -movflags +faststart                   moov atom first: playable while still downloading.
#   -threads 2, bitexact, no metadata      same ffmpeg/x264 build -> byte-identical output.
# Usage: tools/make_demo_clip.sh [SRC] [DST]
set -euo pipefail
src="${1:-/usr/share/doc/opencv-doc/examples/data/vtest.avi}"
dst="${2:-media/vtest.mp4}"
if [[ ! -f "$src" ]]; then
    echo "missing $src: apt-get install opencv-doc ffmpeg" >&2
    exit 1
fi
ffmpeg -nostdin -loglevel error -y -i "$src" -map 0:v:0 -an \
    -c:v libx264 -preset slow -crf 34 -x264-params ipratio=1.0 -bf 0 \
    -g 10 -keyint_min 10 -sc_threshold 0 -pix_fmt yuv420p -threads 2 \
    -movflags +faststart -map_metadata -1 -fflags +bitexact -flags:v +bitexact \
    "$dst"
frames=$(ffprobe -v error -count_packets -select_streams v:0 \
    -show_entries stream=nb_read_packets -of csv=p=0 "$dst")
echo "$dst: $(stat -c %s "$dst") bytes, $frames frames, sha256 $(sha256sum "$dst" | cut -d' ' -f1)"
