"""Display helpers without a screen or Qt: mel-axis labelling (shared by the GUI views and the PNG
renderer) and figures rendered to image files."""
