"""Using a trained model: load any model file as a translator, export it, import the authors'."""

from unpaired.inference.load import Translator, load_translator, module_translator

__all__ = ["Translator", "load_translator", "module_translator"]
