"""Computer vision: detectors and their decoders, face detection, tracking, drawing."""
