"""nnlib: a small numpy library of neural-network layers, with PyTorch's names and shapes."""
from . import functional, init
from .module import Module, Parameter
from .init import manual_seed
from .layers import (GELU, BatchNorm1d, Dropout, Embedding, Flatten, LayerNorm, LeakyReLU, Linear,
                     ReLU, Sequential, Sigmoid, Tanh)
from .losses import BCELoss, BCEWithLogitsLoss, CrossEntropyLoss, MSELoss
from .optim import (SGD, Adam, AdamW, EarlyStopping, LambdaLR, ReduceLROnPlateau, StepLR,
                    clip_grad_norm_, warmup_cosine)
from .gradcheck import gradcheck, numerical_gradient, relative_error
from .conv import (BatchNorm2d, Conv2d, MaxPool2d, ResidualBlock, col2im, conv_output_size,
                   im2col)
from . import data, plot, train
from .data import DataLoader
from .train import History, evaluate, fit, predict
from .recurrent import LSTM, RNN
from .perceptron import Perceptron
from .attention import MultiheadAttention
from .transformer import PositionalEncoding, TransformerEncoderLayer, sinusoidal_positional_encoding
